import type { Strategy } from './strategy.ts';

/** Kubernetes' default `progressDeadlineSeconds`. */
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;

/**
 * Why a batched rollout's planned holds may outlast the Deployment's progress deadline, or undefined when they
 * cannot. Kubernetes keeps counting through holds and then reports ProgressDeadlineExceeded (`kubectl rollout
 * status` fails) although nothing is wrong: users are told before, not after. Pure.
 */
export function deadlineRisk(
  strategy: Pick<Strategy, 'needConfirm' | 'graySeconds' | 'beta'>,
  batchCount: number,
  progressDeadlineSeconds: number | undefined,
  rolloutName: string,
): string | undefined {
  if (batchCount < 2) return undefined;
  const deadline = progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS;
  const reasons: string[] = [];
  const waits = strategy.needConfirm === 'each-batch' ? batchCount - 1 : 0;
  if (waits > 0) reasons.push(`${waits} confirmation${waits > 1 ? 's' : ''} (as long as people take)`);
  else if (strategy.needConfirm === 'beta' && strategy.beta)
    reasons.push('a confirmation after the beta batch');
  const gray = strategy.graySeconds * (batchCount - 1);
  if (gray >= deadline) reasons.push(`${gray} s of gray time`);
  if (reasons.length === 0) return undefined;
  return (
    `this rollout holds for ${reasons.join(' and ')}, which can outlast the Deployment's progressDeadlineSeconds ` +
    `(${deadline} s): Kubernetes will then report ProgressDeadlineExceeded and kubectl rollout status fail, while ` +
    `kmc goes on. Raise progressDeadlineSeconds, or wait with kubectl wait modulerollout/${rolloutName} ` +
    `--for=condition=Completed`
  );
}
