// Errors from libtorch and from the binding's argument conversion arrive as thrown JS Errors with
// useful messages, and the process keeps working after each one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callOp, F, nn, ones, opSchema, tensor, tidy, zeros } from '../../src/torch/index.js';
import { native } from '../../src/torch/native.js';

/** Asserts fn throws an Error whose message matches every pattern, then that the engine still works. */
function throwsUseful(fn: () => unknown, ...patterns: RegExp[]): string {
  let message = '';
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Error, `expected an Error, got ${String(e)}`);
    message = e.message;
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
  tidy(() => assert.deepEqual(ones([2]).add(1).toNumbers(), [2, 2], 'the engine still works'));
  return message;
}

test('shape mismatch in add names the sizes', () => tidy(() => {
  throwsUseful(() => tensor([1, 2]).add(tensor([1, 2, 3])), /size of tensor a \(2\) must match the size of tensor b \(3\)/);
  throwsUseful(() => zeros([2, 3]).matmul(zeros([2, 3])), /shapes cannot be multiplied \(2x3 and 2x3\)/);
  throwsUseful(() => zeros([6]).view([4]), /shape '\[4\]' is invalid for input of size 6/);
}));

test('conv with the wrong channel count says what it expected', () => tidy(() => {
  const msg = throwsUseful(() => F.conv2d(zeros([1, 3, 8, 8]), zeros([4, 2, 3, 3])), /expected input\[1, 3, 8, 8\] to have 2 channels, but got 3 channels/);
  assert.ok(!/\n\s*frame #/.test(msg), 'no C++ backtrace in the message');
  const conv = new nn.Conv2d(4, 2, 3);
  throwsUseful(() => conv.forward(zeros([1, 3, 8, 8])), /channels/);
  throwsUseful(() => F.conv2d(zeros([1, 1, 2, 2]), zeros([1, 1, 3, 3])), /Kernel size can't be greater than actual input size/);
  conv.dispose();
}));

test('a bad dtype name is refused with the list of valid ones', () => tidy(() => {
  throwsUseful(() => tensor([1, 2], [2], { dtype: 'float99' as never }), /unknown dtype 'float99'/, /float32/);
  throwsUseful(() => zeros([2], { dtype: 'complex' as never }), /unknown dtype 'complex'/);
  // a string that is not a dtype is taken as a device name
  throwsUseful(() => ones([2]).to('int' as never), /device string: int/);
  throwsUseful(() => native.fromArray(new Float32Array(2), [2], 'f32' as never), /unknown dtype 'f32'/);
}));

test('an unknown op name via callOp', () => {
  throwsUseful(() => callOp('definitely_not_an_op', []), /no operator aten::definitely_not_an_op/);
  throwsUseful(() => callOp('add.NoSuchOverload', []), /no operator aten::add\.NoSuchOverload/);
  throwsUseful(() => opSchema('nope.nope'), /no operator/);
  assert.match(opSchema('add.Tensor'), /add\.Tensor\(Tensor self, Tensor other, \*, Scalar alpha=1\) -> Tensor/);
});

test('wrong argument types name the op, the argument and what was expected', () => tidy(() => {
  const x = ones([2]);
  throwsUseful(() => callOp('add.Tensor', ['x', x]), /aten::add\.Tensor argument 'self' \(Tensor\): expected a tensor/);
  throwsUseful(() => callOp('add.Tensor', [x, 'y']), /argument 'other' \(Tensor\): expected a tensor/);
  throwsUseful(() => x.add('a' as never), /argument 'other' \(Scalar\): expected a number/);
  throwsUseful(() => callOp('sum.dim_IntList', [x, ['a'], false]), /argument 'dim'.*expected an integer/);
  throwsUseful(() => callOp('sum.dim_IntList', [x, [0.5], false]), /expected an integer, got 0\.5/);
  throwsUseful(() => callOp('mean.dim', [x, [0], 'yes']), /argument 'keepdim' \(bool\): expected a boolean/);
  throwsUseful(() => callOp('cat', [[x, 3], 0]), /argument 'tensors'.*expected a tensor/);
  throwsUseful(() => callOp('add.Tensor', [x, x, 1, 2, 3]), /5 arguments given, the schema takes 3/);
  throwsUseful(() => callOp('add.Tensor', [x]), /argument 'other'.*no default/);
  throwsUseful(() => callOp('zeros', [[2], null, null, null, {}]), /argument 'pin_memory' \(bool\?\): expected a boolean/);
  throwsUseful(() => callOp('zeros', [[2], null, null, null, null, null]), /6 arguments given, the schema takes 5/);
}));

test('other libtorch errors: index out of range, backward without grad, item of many, dtype mismatch', () => tidy(() => {
  throwsUseful(() => tensor([1, 2, 3]).select(0, 5), /index 5 out of range for tensor of size \[3\]/);
  throwsUseful(() => tensor([1, 2, 3]).indexSelect(0, tensor([7], [1], { dtype: 'int64' })), /index out of range/);
  throwsUseful(() => tensor([1, 2]).sum().backward(), /does not require grad/);
  throwsUseful(() => tensor([1, 2]).item(), /2 elements, not 1/);
  throwsUseful(() => tensor([1, 2]).gather(0, tensor([0], [1])), /gather\(\): Expected dtype int64 for index/);
  throwsUseful(() => native.fromArray(new Float32Array(3), [2, 2], 'float32'), /needs 16 bytes, the array has 12/);
  throwsUseful(() => F.pad(zeros([1, 1, 2, 2]), [3, 3, 3, 3], 'reflect'), /Padding size should be less than the corresponding input dimension/);
  throwsUseful(() => F.l1Loss(zeros([2]), zeros([2]), 'avg' as never), /reduction must be 'none', 'mean' or 'sum'/);
}));

test('many errors in a row leave no leak and no crash', () => {
  for (let i = 0; i < 200; i++) {
    assert.throws(() => tidy(() => tensor([1, 2]).add(tensor([1, 2, 3]))));
  }
  tidy(() => assert.equal(ones([3]).sum().item(), 3));
});
