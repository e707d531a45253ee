// Makes every fixture once before the test files run in parallel, so no two files race to make one.
import { RECIPES, fixture, stillImages, brokenInputs, type FixtureName } from './fixtures.js';

export default async function setup(): Promise<void> {
  const names = Object.keys(RECIPES) as FixtureName[];
  for (let i = 0; i < names.length; i += 2) await Promise.all(names.slice(i, i + 2).map((n) => fixture(n)));
  await stillImages();
  await brokenInputs();
}
