/** Builders for the convolutional family and friends (conv2d, pooling, batchnorm, residual). */
import type { LayerBuilder } from "../model.ts";

export const CNN_BUILDERS: Record<string, LayerBuilder> = {};
