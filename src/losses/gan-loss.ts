// The adversarial loss on multi-scale discriminator outputs: LSGAN (mean squared error to the
// real or fake label, the pix2pixHD default), the vanilla GAN (binary cross-entropy on the
// discriminator's sigmoid outputs), or the hinge loss later work trains with (SPADE's --gan_mode
// hinge: D minimises mean(relu(1 − D(real))) + mean(relu(1 + D(fake))), G minimises −mean(D(fake))).
// Only each scale's last output, the score map, counts; scales are summed, as pix2pixHD does for
// its own losses (SPADE divides by the number of scales instead).
import { autocast, deviceTypeOf, F, fullLike, type Tensor } from '../torch/index.js';

export interface GANLossOptions {
  /** Least-squares GAN (true, default) or vanilla GAN (false, the official --no_lsgan). */
  use_lsgan?: boolean;
  /** The hinge loss instead (use_lsgan is then ignored; D has no sigmoid). */
  hinge?: boolean;
  target_real_label?: number;
  target_fake_label?: number;
}

export class GANLoss {
  readonly useLsgan: boolean;
  readonly hinge: boolean;
  readonly realLabel: number;
  readonly fakeLabel: number;

  constructor(opts: GANLossOptions = {}) {
    this.useLsgan = opts.use_lsgan ?? true;
    this.hinge = opts.hinge ?? false;
    this.realLabel = opts.target_real_label ?? 1;
    this.fakeLabel = opts.target_fake_label ?? 0;
  }

  /**
   * Sum over scales of the loss between each scale's score map and the target label. `outputs`
   * is a multi-scale discriminator's result (a list per scale) or one discriminator's list.
   * `forDiscriminator` matters only to the hinge loss, whose G term is not D's real term.
   */
  forward(outputs: readonly (readonly Tensor[])[] | readonly Tensor[], targetIsReal: boolean, forDiscriminator = true): Tensor {
    const scales = (outputs.length > 0 && Array.isArray(outputs[0]) ? outputs : [outputs]) as readonly (readonly Tensor[])[];
    let total: Tensor | null = null;
    for (const scale of scales) {
      const pred = scale[scale.length - 1];
      if (!pred) throw new Error('GANLoss: a discriminator returned no outputs');
      if (this.hinge) {
        const loss = !forDiscriminator ? pred.mean().neg() : targetIsReal ? pred.rsub(1).relu().mean() : pred.add(1).relu().mean();
        total = total === null ? loss : total.add(loss);
        continue;
      }
      const target = fullLike(pred, targetIsReal ? this.realLabel : this.fakeLabel);
      // Binary cross-entropy on probabilities is unsafe in float16, and autocast refuses it: it
      // runs in float32 outside any autocast region (apex's O1, the official --fp16, does the same).
      const loss = this.useLsgan
        ? F.mseLoss(pred, target)
        : autocast(deviceTypeOf(pred), () => F.bceLoss(atLeastFloat32(pred), atLeastFloat32(target)), { enabled: false });
      total = total === null ? loss : total.add(loss);
    }
    if (total === null) throw new Error('GANLoss: no discriminator outputs');
    return total;
  }
}

/** float16 and bfloat16 tensors as float32; float32 and float64 ones as they are. */
function atLeastFloat32(t: Tensor): Tensor {
  return t.dtype === 'float16' || t.dtype === 'bfloat16' ? t.to('float32') : t;
}
