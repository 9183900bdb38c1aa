// ml-logistic-regression ships no type declarations; these cover what baselines/logistic.ts uses.
declare module 'ml-logistic-regression' {
  import type { Matrix } from 'ml-matrix';
  interface TwoClassModel {
    /** 1 × q row of coefficients (no intercept: a column of ones is the caller's). */
    weights: Matrix;
    testScores(features: Matrix): number[];
  }
  export default class LogisticRegression {
    constructor(options?: { numSteps?: number; learningRate?: number });
    /** One-vs-all: classifiers[c] scores P(y ≠ c). */
    classifiers: TwoClassModel[];
    numberClasses: number;
    train(X: Matrix, Y: Matrix): void;
    predict(X: Matrix): number[];
  }
}
