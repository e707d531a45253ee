/**
 * The layer rule (ARCHITECTURE.md, "Layers"): a module imports only from its own layer or the
 * layers below it, and the pure planning core imports no I/O. `npm run lint:deps` (part of
 * `npm test`) fails on a back-arrow.
 */
// ARCHITECTURE.md's layer table is checked against this list (test/api/layers.test.ts): keep both.
const LAYERS = [
  ['core', '^src/(errors|limits)\\.ts$|^src/(util|media)/'],
  ['models and options', '^src/(models|options)/'],
  ['providers', '^src/providers/'],
  ['tools and requests', '^src/(ffmpeg|request)/'],
  ['media facts', '^src/(probe|image)/'],
  ['inputs and audio', '^src/(source|audio)/'],
  ['decoding', '^src/extract/'],
  ['planning', '^src/plan/'],
  ['pipeline', '^src/(sample|dispatch|batch)/|^src/prepare\\.ts$'],
  ['jobs', '^src/(cost|calibrate|eval)/|^src/(run|doctor)\\.ts$'],
  ['surfaces', '^src/(service|cli|web)/|^src/index\\.ts$|^workers/'],
];

const layerRules = [];
LAYERS.forEach(([name, path], i) => {
  const above = LAYERS.slice(i + 1).map(([, p]) => `(${p})`).join('|');
  if (!above) return;
  layerRules.push({
    name: `layer: ${name}`,
    comment: `${name} may import only from its own layer and the layers below it (ARCHITECTURE.md)`,
    severity: 'error',
    from: { path },
    to: { path: above, pathNot: '^src/[a-z]+/index\\.ts$|^src/index\\.ts$' },
  });
});

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no barrels inside',
      comment: 'modules import each other directly, not through a folder index (the index files are the public API)',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/index\\.ts$|^src/[a-z]+/index\\.ts$' },
      to: { path: '^src/[a-z]+/index\\.ts$|^src/index\\.ts$' },
    },
    {
      name: 'pure planner',
      comment: 'the planning core (src/plan, but plan.ts that gathers facts) does no I/O: no processes, files, decoders or pools',
      severity: 'error',
      from: { path: '^src/plan/', pathNot: '^src/plan/plan\\.ts$' },
      to: {
        path: '^src/(ffmpeg|extract|sample|image|source|service|cli|dispatch|batch|providers)/|^src/probe/(?!types\\.ts$)|^(node:)?(fs|fs/promises|child_process|worker_threads|net|http|https)$|^piscina|^sharp',
        // a type carries no I/O
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'no circles',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'src is not tests',
      severity: 'error',
      from: { path: '^(src|workers)/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.json'] },
    exclude: { path: '^dist/' },
  },
};
