/** Builders for the convolutional family and friends (conv2d, pooling, batchnorm, residual). */
import type { LayerBuilder } from "../model.ts";
import type { BatchNormSpec, Conv2dSpec, PoolSpec, ResidualSpec } from "../spec.ts";
import { BatchNorm } from "./batchnorm.ts";
import { Conv2d } from "./conv2d.ts";
import { AvgPool2d, MaxPool2d } from "./pool.ts";
import { Residual } from "./residual.ts";

export const CNN_BUILDERS: Record<string, LayerBuilder> = {
  conv2d: (spec, name, inShape, ctx) => new Conv2d(name, inShape, spec as Conv2dSpec, ctx),
  maxpool2d: (spec, name, inShape, ctx) => new MaxPool2d(name, inShape, spec as PoolSpec, ctx),
  avgpool2d: (spec, name, inShape, ctx) => new AvgPool2d(name, inShape, spec as PoolSpec, ctx),
  batchnorm: (spec, name, inShape, ctx) => new BatchNorm(name, inShape, spec as BatchNormSpec, ctx),
  residual: (spec, name, inShape, ctx) => new Residual(name, inShape, spec as ResidualSpec, ctx),
};
