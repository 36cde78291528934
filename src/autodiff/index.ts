export { grad, valueAndGrad, vjp, type GradOptions } from './grad.js';
