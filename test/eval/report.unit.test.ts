import { describe, expect, it } from 'vitest';
import { frontier, percentile, recommend, reportCsv, wilson, type EvalReport } from '../../src/eval/report.js';

const plan = (accuracy: number, estimatedUsd: number, n = 100) => ({ accuracy, estimatedUsd, answered: n, ci95: wilson(Math.round(accuracy * n), n) });

describe('eval report', () => {
  it('Wilson 95% intervals', () => {
    expect(wilson(7, 8)).toEqual([0.529112, 0.977583]);
    expect(wilson(0, 10)).toEqual([0, 0.277533]);
    expect(wilson(10, 10)).toEqual([0.722467, 1]);
    expect(wilson(50, 100)).toEqual([0.403832, 0.596168]);
    expect(wilson(0, 0)).toEqual([0, 1]);
  });

  it('percentiles by nearest rank', () => {
    expect(percentile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 0.95)).toBe(5);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        0.95,
      ),
    ).toBe(95);
    expect(percentile([], 0.5)).toBeNull();
  });

  it('the frontier: plans no other beats on both dollars and accuracy, cheapest first', () => {
    const plans = [plan(0.9, 4), plan(0.8, 2), plan(0.8, 3), plan(0.5, 1), plan(0.95, 8), plan(0.4, 1.5), plan(0.8, 2)];
    expect(frontier(plans)).toEqual([3, 1, 0, 4]);
    expect(frontier([{ accuracy: 1, estimatedUsd: 1, answered: 0 }])).toEqual([]);
  });

  it('recommends the cheapest plan within the best plan interval, or at the target accuracy', () => {
    const plans = [plan(0.9, 4), plan(0.85, 2), plan(0.6, 1), plan(0.9, 5)];
    // best: 0.9 at $4 (its interval starts at 0.825634); 0.85 at $2 is within it.
    expect(plans[0]!.ci95[0]).toBe(0.825634);
    expect(recommend(plans)).toBe(1);
    expect(recommend(plans, 0.5)).toBe(2);
    expect(recommend(plans, 0.95)).toBeNull();
    expect(recommend([])).toBeNull();
  });

  it('CSV: a header and one row per plan', () => {
    const r: EvalReport = {
      plans: [
        {
          every: 2,
          mode: 'exact',
          model: 'gpt-5.5',
          detail: 'auto',
          send: 'frames',
          maxSide: null,
          questions: 2,
          answered: 2,
          correct: 1,
          accuracy: 0.5,
          ci95: wilson(1, 2),
          estimatedUsd: 0.25,
          billedUsd: 0.125,
          estimatedJudgeUsd: 0.0625,
          judgeUsd: 0.03125,
          inputTokens: 900,
          frames: 10,
          latencyMs: { p50: 3, p95: 4 },
        },
      ],
      frontier: [0],
      recommended: 0,
      requests: { sent: 2, cached: 0 },
    };
    expect(reportCsv(r)).toBe(
      'every,mode,model,detail,send,maxSide,questions,answered,correct,accuracy,ci95Low,ci95High,estimatedUsd,billedUsd,estimatedJudgeUsd,judgeUsd,inputTokens,frames,latencyP50Ms,latencyP95Ms,frontier,recommended\n' +
        '2,exact,gpt-5.5,auto,frames,,2,2,1,0.5,0.094531,0.905469,0.25,0.125,0.0625,0.03125,900,10,3,4,true,true\n',
    );
  });
});
