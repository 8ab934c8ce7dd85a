// The lab pod runner's public surface.
export { startPodRunner } from './runner.ts';
export type { PodRunner, PodRunnerOptions, RunningPod } from './runner.ts';
