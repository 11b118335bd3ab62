// Training-loop reporting: terminal progress, the loss logs, the training page (the generic
// writers, PNG, HTML and the results page, are in src/report/).
// Plain numbers, strings and RGB bytes in; nothing here touches the tensor engine.
export { formatDuration, formatFixedPy, formatLosses, formatSig, renderBar } from './format.js';
export { RateMeter } from './rate.js';
export {
  crossesPrintPoint,
  etaSeconds,
  formatProgressLine,
  runIterations,
  type ProgressFormat,
  type ProgressState,
} from './progress-format.js';
export { ProgressBar, type ProgressBarOptions, type ProgressStream, type ProgressUpdate } from './progress.js';
export {
  formatCTime,
  formatLossLine,
  LOSS_LOG_JSONL,
  LOSS_LOG_TXT,
  LossLog,
  readLossLog,
  type LossLogOptions,
  type LossRecord,
  type ReadLossLogOptions,
} from './loss-log.js';
export {
  chartMapping,
  DEFAULT_CHART_LAYOUT,
  lossSeries,
  movingAverage,
  niceTicks,
  preparedSeries,
  renderLossChart,
  type ChartLayout,
  type ChartOptions,
  type Series,
} from './chart.js';
export {
  fileSlug,
  renderTrainingPage,
  sampleFileName,
  SAMPLES_MANIFEST,
  writeTrainingPage,
  type Sample,
  type SampleEntry,
  type SampleImage,
  type TrainingPageInput,
  type TrainingPageResult,
} from './training-page.js';
