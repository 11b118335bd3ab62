// One pix2pixHD training iteration: fake = G(x); D on the fake and on the real image; G's loss
// (GAN + feature matching + VGG) and D's loss ((D_fake + D_real) / 2), each back-propagated into
// its own network and stepped. `losses` is the forward pass, `step` back-propagates and updates.
import type { OnehotLayout } from '../models/onehot-input.js';
import { autocast, backward, type BackwardFunction, cat, type GradScaler, noGrad, Recomputation, tidy, type Tensor, zerosLike } from '../torch/index.js';
import { featureMatchingLoss, GANLoss, type VGGLoss } from '../losses/index.js';
import type { DiscriminatorOutputs, MultiscaleDiscriminator } from '../models/index.js';
import type { GeneratorInput } from '../run/generator-input.js';

/** What step() needs of an optimizer (Adam and SGD both fit). */
export interface StepOptimizer {
  zeroGrad(setToNone?: boolean): void;
  step(): void;
  /** zeroGrad, backward into its parameters and step, updating each one inside the backward. */
  backwardAndStep?(loss: Tensor, backwardFn?: BackwardFunction): void;
  readonly paramGroups: readonly { params: Tensor[] }[];
  materializeState?(): void;
}

/**
 * Data-parallel training (src/dist): back-propagates a loss into parameters and leaves in their
 * .grad the average of every rank's gradients (which .grad must not hold beforehand).
 */
export interface GradientAverager {
  averageGradients(loss: Tensor, params: readonly Tensor[], opts?: { retainGraph?: boolean }): void;
}

/** A buffer of past fakes (`--pool_size`): returns the batch to show D in place of the new one. */
export interface FakePool {
  query(concat: Tensor): Tensor;
}

export interface TrainStepParts {
  /** The generator (GlobalGenerator or LocalEnhancer). */
  G: { forward(x: Tensor, layout?: OnehotLayout | null): Tensor };
  D: MultiscaleDiscriminator;
  /** Needed unless no_vgg_loss. */
  vggLoss?: VGGLoss | null;
  /** G's optimizer (with E's parameters when the run trains an encoder: E runs inside G's input). */
  optimizerG: StepOptimizer;
  optimizerD: StepOptimizer;
  fakePool?: FakePool | null;
  /**
   * Mixed precision (--fp16): the forward pass under autocast for this device type, and the losses
   * scaled before backward, each network's step skipped when its gradients overflow.
   */
  amp?: { deviceType: 'cuda' | 'cpu'; scaler: GradScaler } | null;
  /**
   * With several ranks: both networks' gradients are averaged across them before each step. G's
   * update then cannot run inside its backward pass (an update needs the averaged gradient).
   * Under --fp16 the overflow check runs on the averaged gradients, so every rank sees the same
   * overflow and skips the same step.
   */
  gradients?: GradientAverager | null;
}

export interface TrainStepOptions {
  num_D: number;
  n_layers_D: number;
  /** Default 10. */
  lambda_feat?: number;
  no_ganFeat_loss?: boolean;
  no_vgg_loss?: boolean;
  no_lsgan?: boolean;
  /** 'hinge': the hinge GAN loss (off by default: the official LSGAN / vanilla losses). */
  gan_mode?: '' | 'hinge';
  /**
   * --recompute_blocks: G's residual blocks keep only their inputs in the forward and are
   * recomputed in G's backward (activation checkpointing), for less peak memory at the cost of
   * one more forward of the blocks; the arithmetic, and so every weight, is the same.
   */
  recompute_blocks?: boolean;
  /**
   * --recompute_vgg: the VGG loss's network keeps only its five feature maps of the fake (what
   * the L1 terms need) and is recomputed slice by slice in G's backward, for less peak memory at
   * the cost of one more VGG forward of the fake; the arithmetic, and every weight, is the same.
   */
  recompute_vgg?: boolean;
  /**
   * --D_real_first: D's pass on the real image and the backward of its loss term run before G's
   * forward, so that graph is freed before G's, D's pass on the fake and the VGG loss are built,
   * instead of being held beside them; only its features stay, for feature matching. Each of D's
   * gradients is then the same two terms summed in the other order (exactly the same number).
   */
  D_real_first?: boolean;
}

/**
 * What a step trains on: G's input, D's condition and the real image (see run/generator-input.ts),
 * or a function that builds them, called inside the step's scope (and autocast), so that E's
 * forward pass, part of G's input in feature runs, is part of the step like the official model's.
 */
export type StepInput = Pick<GeneratorInput, 'condition' | 'input'> & { realImage: Tensor | null; layout?: OnehotLayout | null };

/** The losses of one iteration, named as the official ones; disabled losses are absent. */
export interface StepLosses {
  G_GAN: number;
  G_GAN_Feat?: number;
  G_VGG?: number;
  D_real: number;
  D_fake: number;
}

/** The loss tensors of one forward pass, with the generated image. */
/** D's pass on the real image, made and back-propagated before the rest (--D_real_first). */
export interface RealPass {
  /** G's input, built with the real pass (the encoder runs inside it). */
  x: StepInput;
  /** D's outputs on the real image, their graph already back-propagated and freed. */
  predReal: DiscriminatorOutputs;
  D_real: Tensor;
}

export interface ForwardResult {
  fake: Tensor;
  G_GAN: Tensor;
  G_GAN_Feat: Tensor | null;
  G_VGG: Tensor | null;
  D_real: Tensor;
  D_fake: Tensor;
}

export class TrainStep {
  readonly criterionGAN: GANLoss;
  readonly lambdaFeat: number;
  /** The checkpointed segments of the current step (--recompute_blocks, --recompute_vgg), else null. */
  readonly #recompute: Recomputation | null;

  constructor(readonly parts: TrainStepParts, readonly opts: TrainStepOptions) {
    if (opts.gan_mode === 'hinge' && opts.no_lsgan) throw new Error('--gan_mode hinge needs a discriminator without a sigmoid: drop --no_lsgan');
    this.criterionGAN = new GANLoss({ use_lsgan: !opts.no_lsgan, hinge: opts.gan_mode === 'hinge' });
    this.lambdaFeat = opts.lambda_feat ?? 10;
    if (!opts.no_vgg_loss && !parts.vggLoss) {
      throw new Error('the VGG loss is on but no VGGLoss was given: load the VGG19 weights, or set no_vgg_loss');
    }
    if (!opts.no_ganFeat_loss && !(parts.D.opts.getIntermFeat ?? true)) {
      throw new Error('feature matching needs a discriminator built with getIntermFeat (or set no_ganFeat_loss)');
    }
    if (opts.D_real_first && parts.gradients) {
      throw new Error('--D_real_first trains one process: with several ranks D\'s gradients are averaged in one backward of its whole loss; drop one of the two');
    }
    for (const option of ['recompute_blocks', 'recompute_vgg'] as const) {
      if (opts[option] && parts.gradients) {
        throw new Error(`--${option} trains one process: with several ranks G's gradients are averaged by the data-parallel backward, which does not recompute; drop one of the two`);
      }
    }
    // Recomputed segments run under the forward's autocast, so they compute what the forward did.
    this.#recompute = opts.recompute_blocks || opts.recompute_vgg ? new Recomputation((fn) => this.underAutocast(fn)) : null;
  }

  /** Replaces G's optimizer (G1 joins training after niter_fix_global epochs); the old one is the caller's. */
  setOptimizerG(optimizerG: StepOptimizer): void {
    this.parts.optimizerG = optimizerG;
  }

  /** D's outputs for an image conditioned on the label map. */
  discriminate(condition: Tensor, image: Tensor): DiscriminatorOutputs {
    return this.parts.D.forward(cat([condition, image], 1));
  }

  /**
   * The forward pass of the official model: the generated image and every loss. D judges the fake
   * once, for both networks' losses (each loss later back-propagates only into its own network);
   * with an image pool D's own loss judges a fake drawn from the pool instead, as the official code.
   */
  losses(x: StepInput, realPass: RealPass | null = null): ForwardResult {
    const { parts, opts } = this;
    const real = x.realImage;
    if (!real) throw new Error('training needs the real photo of every map');
    const layout = x.layout ?? null;
    const rec = this.#recompute;
    const generated = rec && opts.recompute_blocks ? rec.record(x.input, (input) => parts.G.forward(input, layout)) : parts.G.forward(x.input, layout);
    // With --recompute_vgg everything after G sees its output cut from G's graph (see
    // Recomputation.record), so that D's and the VGG loss's gradients of it, which come back in
    // different portions of the backward, are summed before they go on into G, as they are without.
    return rec && opts.recompute_vgg
      ? rec.record(generated, (fake) => this.#lossesOf(x, fake, real, realPass))
      : this.#lossesOf(x, generated, real, realPass);
  }

  #lossesOf(x: StepInput, fake: Tensor, real: Tensor, realPass: RealPass | null): ForwardResult {
    const { parts, opts } = this;
    const predFake = this.discriminate(x.condition, fake);
    const predReal = realPass ? realPass.predReal : this.discriminate(x.condition, real);
    const predFakeForD = parts.fakePool ? parts.D.forward(parts.fakePool.query(cat([x.condition, fake.detach()], 1))) : predFake;
    return {
      fake,
      D_fake: this.criterionGAN.forward(predFakeForD, false),
      D_real: realPass ? realPass.D_real : this.criterionGAN.forward(predReal, true),
      G_GAN: this.criterionGAN.forward(predFake, true, false),
      G_GAN_Feat: opts.no_ganFeat_loss
        ? null
        : featureMatchingLoss(predFake, predReal, { num_D: opts.num_D, n_layers_D: opts.n_layers_D, lambda_feat: this.lambdaFeat }),
      G_VGG: opts.no_vgg_loss ? null : parts.vggLoss!.forward(fake, real),
    };
  }

  /** G's total loss: GAN + feature matching + VGG. */
  generatorLoss(r: ForwardResult): Tensor {
    let loss = r.G_GAN;
    if (r.G_GAN_Feat) loss = loss.add(r.G_GAN_Feat);
    if (r.G_VGG) loss = loss.add(r.G_VGG);
    return loss;
  }

  /** D's total loss: the mean of its fake and real terms. */
  discriminatorLoss(r: ForwardResult): Tensor {
    return r.D_fake.add(r.D_real).mul(0.5);
  }

  /**
   * One iteration: G update and D update, with the official arithmetic. Returns the losses
   * (computed before the updates, as the official log shows them) and, with `keepFake`, the
   * generated image (the caller disposes it). Every other tensor is freed.
   *
   * D runs twice (fake, real) instead of the official three times (without an image pool its view
   * of the fake is the same detached or not), and each loss back-propagates only into its own
   * network (`inputs`): G's backward passes through D without computing D's weight gradients,
   * which the official code computes and then throws away.
   */
  step(input: StepInput | (() => StepInput), opts: { keepFake?: boolean } = {}): { losses: StepLosses; fake: Tensor | null } {
    this.prepareBuffers();
    // Whatever an interrupted step recorded is freed, here and at the end of this one.
    this.#recompute?.clear();
    try {
      return this.#step(input, opts);
    } finally {
      this.#recompute?.clear();
    }
  }

  #step(input: StepInput | (() => StepInput), opts: { keepFake?: boolean }): { losses: StepLosses; fake: Tensor | null } {
    const { parts } = this;
    return tidy(() => {
      // The forward in its own scope that keeps only the two losses (and the image to show):
      // every other activation is then held by the autograd graph alone, which backward frees as
      // it goes, so the peak memory is that of the graph, not of every tensor the forward made.
      parts.optimizerD.zeroGrad(parts.gradients !== undefined && parts.gradients !== null);
      const realPass = this.opts.D_real_first ? this.realPassFirst(input) : null;
      const { lossG, lossD, losses, shown } = this.underAutocast(() => tidy(() => {
        const r = this.losses(realPass ? realPass.x : typeof input === 'function' ? input() : input, realPass);
        return {
          // D's real term is back-propagated already: what is left of D's loss is its fake term.
          lossG: this.generatorLoss(r), lossD: realPass ? r.D_fake.mul(0.5) : this.discriminatorLoss(r), losses: this.lossValues(r),
          shown: opts.keepFake ? noGrad(() => r.fake.detach()) : null,
        };
      }));
      // D's loss first, keeping the graph G's loss shares; dropping lossD then frees D's pass on
      // the real image, and G's backward (not retained) frees the rest as it goes, updating each
      // of G's parameters as soon as its gradient is complete (D's weights, which that backward
      // passes through, change only after it). With an image pool D's fake term has a graph of
      // its own, which the same backward frees.
      if (parts.gradients) parts.gradients.averageGradients(this.scaled(lossD), trainable(parts.optimizerD), { retainGraph: true });
      else backward([this.scaled(lossD)], null, { retainGraph: true, inputs: trainable(parts.optimizerD) });
      lossD.dispose();
      this.backwardAndStepG(lossG);
      lossG.dispose();
      this.stepD();
      parts.amp?.scaler.update();
      return { losses, fake: shown };
    });
  }

  /**
   * --D_real_first: G's input, D's pass on the real image and its loss, whose half (its share of
   * D's loss, (D_fake + D_real) / 2) is back-propagated into D's gradients now, freeing that graph.
   */
  private realPassFirst(input: StepInput | (() => StepInput)): RealPass {
    const { x, predReal, D_real } = this.underAutocast(() => tidy(() => {
      const x = typeof input === 'function' ? input() : input;
      if (!x.realImage) throw new Error('training needs the real photo of every map');
      const predReal = this.discriminate(x.condition, x.realImage);
      return { x, predReal, D_real: this.criterionGAN.forward(predReal, true) };
    }));
    tidy(() => backward([this.scaled(D_real.mul(0.5))], null, { inputs: trainable(this.parts.optimizerD) }));
    return { x, predReal, D_real };
  }

  /** G's update from its loss: inside the backward pass where the optimizer can (see Optimizer.backwardAndStep). */
  private backwardAndStepG(lossG: Tensor): void {
    const { optimizerG: opt, amp, gradients } = this.parts;
    const recompute = this.#recompute;
    const backwardG: BackwardFunction = recompute ? (o, g, b) => recompute.backward(o, g, b) : backward;
    if (this.updatesGInBackward() && opt.backwardAndStep) {
      // Without recomputation, autograd's own backward: the optimizer may then update natively.
      if (recompute) opt.backwardAndStep(lossG, backwardG);
      else opt.backwardAndStep(lossG);
      return;
    }
    if (gradients) {
      opt.zeroGrad(true);
      gradients.averageGradients(this.scaled(lossG), trainable(opt));
    } else {
      opt.zeroGrad();
      backwardG([this.scaled(lossG)], null, { inputs: trainable(opt) });
    }
    if (!amp || amp.scaler.unscale(trainable(opt))) opt.step();
  }

  /**
   * Whether G's optimizer updates inside the backward pass and so keeps no gradients. Not with
   * loss scaling: a step may have to be skipped, which is known only once every gradient is; not
   * across ranks: the update needs the gradient averaged over them.
   */
  private updatesGInBackward(): boolean {
    return this.parts.optimizerG.backwardAndStep !== undefined && !this.parts.amp && !this.parts.gradients;
  }

  /** D's step from the gradients its backward left (skipped when they overflowed under --fp16). */
  private stepD(): void {
    const { optimizerD: opt, amp } = this.parts;
    if (!amp || amp.scaler.unscale(trainable(opt))) opt.step();
  }

  /** The loss to back-propagate: scaled under --fp16. */
  private scaled(loss: Tensor): Tensor {
    return this.parts.amp ? this.parts.amp.scaler.scaleLoss(loss) : loss;
  }

  /** fn under autocast with --fp16, as it is otherwise. */
  private underAutocast<T>(fn: () => T): T {
    const { amp } = this.parts;
    return amp ? autocast(amp.deviceType, fn) : fn();
  }

  /**
   * Before the first step: D's gradient buffers (zeros; each one receives a gradient every step;
   * G keeps none when its optimizer updates inside the backward) and both optimizers' state,
   * allocated up front so that these long-lived buffers are not interleaved in memory with the
   * first iteration's activations.
   */
  prepareBuffers(): void {
    const { optimizerG, optimizerD } = this.parts;
    if (this.#prepared.has(optimizerG) && this.#prepared.has(optimizerD)) return;
    tidy(() => {
      for (const opt of [optimizerG, optimizerD]) {
        // Across ranks the gradients are views of the all-reduce buckets, made in the backward.
        if (!this.parts.gradients && (opt === optimizerD || !this.updatesGInBackward())) {
          for (const p of trainable(opt)) if (p.grad === null) p.grad = noGrad(() => zerosLike(p));
        }
        opt.materializeState?.();
        this.#prepared.add(opt);
      }
    });
  }

  /** Optimizers whose buffers prepareBuffers() has allocated (G's is replaced when G1 joins). */
  readonly #prepared = new WeakSet<StepOptimizer>();

  private lossValues(r: ForwardResult): StepLosses {
    const losses: StepLosses = { G_GAN: r.G_GAN.item(), D_real: r.D_real.item(), D_fake: r.D_fake.item() };
    if (r.G_GAN_Feat) losses.G_GAN_Feat = r.G_GAN_Feat.item();
    if (r.G_VGG) losses.G_VGG = r.G_VGG.item();
    return losses;
  }
}

/** The parameters an optimizer updates that currently take gradients (frozen ones are left out). */
function trainable(opt: StepOptimizer): Tensor[] {
  return opt.paramGroups.flatMap((g) => g.params).filter((p) => p.requiresGrad);
}
