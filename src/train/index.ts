export { TrainStep, type TrainStepSpec, type InputSpec, type LossFn, type LossResult, type StepResult, type OptimizerSnapshot } from './step.js';
export { Predictor, type PredictorSpec, type ForwardFn } from './infer.js';
