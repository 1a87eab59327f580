// Merge layers: Add, Multiply, Average, Maximum, Minimum (elementwise over same-shape inputs, any layout) and
// Concatenate, whose tfjs axis is mapped through the layout (NHWC axis k of a 4-D value is NCHW axis [0, 2, 3, 1][k]).
import type { Val } from '../context';
import { NCHW_AXIS } from '../context';
import { int } from '../graph_builder';
import { configOf, type Converter } from './step';

function sameRank(inputs: Val[]): void {
  if (inputs.some((v) => v.shape.length !== inputs[0].shape.length)) throw new Error('merging inputs of different ranks is not supported');
}

/** A variadic elementwise op written as a chain of binary ops (ONNX Sum/Max/Min take many, Add/Mul two). */
function elementwise(op: 'Add' | 'Mul' | 'Max' | 'Min', average = false): Converter {
  return (ctx, step, inputs) => {
    sameRank(inputs);
    const name = step.layer.name;
    let acc = inputs[0].name;
    for (let k = 1; k < inputs.length; k++) {
      acc = ctx.op(op, [acc, inputs[k].name], {}, average || k < inputs.length - 1 ? `${name}_${k}` : name);
    }
    if (average) acc = ctx.op('Mul', [acc, ctx.floats(`${name}_inverse_count`, [1 / inputs.length], [])], {}, name);
    return [{ name: acc, shape: step.outputShapes[0] }];
  };
}

export const addLayer = elementwise('Add');
export const multiplyLayer = elementwise('Mul');
export const averageLayer = elementwise('Add', true);
export const maximumLayer = elementwise('Max');
export const minimumLayer = elementwise('Min');

export const concatenateLayer: Converter = (ctx, step, inputs) => {
  sameRank(inputs);
  const rank = inputs[0].shape.length;
  const tfAxis = (Number(configOf(step.layer).axis ?? -1) + rank) % rank;
  const axis = rank === 4 ? NCHW_AXIS[tfAxis] : tfAxis;
  return [{ name: ctx.op('Concat', inputs.map((v) => v.name), { axis: int(axis) }, step.layer.name), shape: step.outputShapes[0] }];
};
