// `fit-heads`' training defaults, and why they are not Keras'.
//
// Keras' defaults (Adam, learning rate 0.001, batch 32, glorot_uniform kernels) underfit linear
// heads on L2-normalised pooled features of width ~2048 in the few epochs one usually runs. A
// unit vector of width D has components of ~1/sqrt(D) (0.022 at D = 2048), and most of its
// length is a direction every image shares, so the class signal per component is smaller still.
// To turn that into logits of a few units the kernel must grow to a norm of several units, i.e.
// ~0.1-0.2 per component along the signal, while glorot starts it at ±0.054 in random
// directions and the initial logits are ~0.03. Adam moves every parameter by at most ~lr per step
// whatever the gradient's scale, and a dataset of a few thousand images gives ~50 steps of 32 per
// epoch: at lr 0.001 that is <= 0.05 per component per epoch, before the noise in the gradient's
// sign slows it further. The cure is a larger step, not more capacity.
//
// Figures (Tests/HeadsTests/TeacherProblem.swift, problem seed 1, rerun with
// HEADS_EXPERIMENT_WIDTH=2048 HEADS_EXPERIMENT_LATENT=32 HEADS_EXPERIMENT_OFFSET=1
// HEADS_EXPERIMENT_EPOCHS=10 swift test --filter DefaultsExperimentTests; 1600 training /
// 400 validation rows, linear softmax(4)/tanh/sigmoid heads, Adam, batch 32, shuffled;
// validation class accuracy / score MAE on 1..10 / flag accuracy, the logistic teacher's own
// flag accuracy in brackets):
//   D 2048, features on a 32-dim subspace plus a common direction (cosine ~0.5 between rows)
//   [0.885]:
//     10 epochs: lr 0.001: 0.860 / 0.503 / 0.860   lr 0.003: 0.913 / 0.046 / 0.870
//                lr 0.01:  0.953 / 0.001 / 0.885   lr 0.03:  0.950 / 0.003 / 0.875
//                lr 0.1:   0.940 / 0.517 / 0.840
//                lr 0.001 on standardised features: 0.938 / 0.641 / 0.860
//     40 epochs: lr 0.001: 0.928 / 0.008 / 0.878   lr 0.01:  0.945 / 0.000 / 0.888
//                lr 0.1:   0.950 / 0.252 / 0.863
//   same, common direction twice as strong (cosine ~0.8) [0.893], 10 epochs:
//                lr 0.001: 0.743 / 0.964 / 0.850   lr 0.01:  0.923 / 0.014 / 0.875
//   D 512, same structure as the first [0.890], 10 epochs (TeacherTests asserts this):
//                lr 0.001: 0.855 / 1.057 / 0.780   lr 0.01:  0.923 / 0.004 / 0.888
//   D 64, isotropic features [0.880], 10 epochs:
//                lr 0.001: 0.630 / 1.719 / 0.768   lr 0.01:  0.888 / 0.247 / 0.855
//                lr 0.1:   0.940 / 0.000 / 0.860
// So lr 0.001 needs ~4x the epochs to catch up; lr 0.01 is near the best within 10 epochs and
// does not degrade by 40; lr 0.1 overshoots the regression head. Per-feature standardisation
// also speeds things up (it rescales components to ~1) but fits the noisy directions as eagerly
// as the signal (worse MAE) and adds statistics to store with the model, so it is not the default.
// (Isotropic features at D 2048 with 1600 rows are sample-limited, not step-limited: every
// learning rate stays at ~0.5 class accuracy there; that case says nothing about defaults.)

/// The defaults of `fit-heads` for linear and small heads on cached L2-normalised features.
public enum TrainingDefaults {
  /// Adam's learning rate: 10x Keras' 0.001, for the reason above.
  public static let learningRate = 0.01
  /// Rows per batch, as Keras.
  public static let batchSize = 32
  /// Epochs: enough at `learningRate` for a linear head to reach its best on a few thousand rows.
  public static let epochs = 20
  /// The optimiser with these defaults (Adam's other settings as Keras').
  public static var optimizer: OptimizerKind { .adam(learningRate: learningRate) }
}
