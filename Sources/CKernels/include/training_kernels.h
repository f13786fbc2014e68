// Headstart's training kernels: the optimiser update over a flat parameter buffer, and a dense
// layer's two products with the batch for rows that stay where they are. Like the
// inference kernels (kernels.h) each exists in three builds of one source
// (templates/training_template.h): AVX-512, AVX2 and portable C, the one in use chosen by
// hs_kernels_active() (tests force narrower ones with hs_kernels_force).
//
// Every build computes exactly the bits of the scalar definition (Engine/Optimizers.swift,
// adamUpdateReference): the same float operations in the same order, no fused multiply-add,
// and square root and division correctly rounded at every width. Keras parity rests on that.
#ifndef HEADSTART_TRAINING_KERNELS_H
#define HEADSTART_TRAINING_KERNELS_H

#include <stddef.h>

/// One Adam step (Keras 3) over n parameters, in place. First, with decay != 0, Keras' decoupled
/// weight decay w -= w * decay * lr. Then, per parameter:
///   m += (g - m) * keep1;  v += (g * g - v) * keep2;  w -= m * alpha / (sqrt(v) + eps)
/// with keep1 = 1 - beta1, keep2 = 1 - beta2 and alpha = lr sqrt(1 - beta2^t) / (1 - beta1^t).
void hs_adam_update(float *w, const float *g, float *m, float *v, size_t n, float alpha, float keep1, float keep2,
                    float eps, float decay, float lr);

/// Adam's coefficients for one step (hs_adam_update's arguments after the buffers).
typedef struct {
  float alpha, keep1, keep2, eps, decay, lr;
} hs_adam_coefficients;

/// z (m, n) = bias (n) + x (m, k) w (k, n): a dense layer whose kernel is stored as Keras stores
/// it, row p of w holding input p's weights of the n units; z has row stride ldz. Row i of x is
/// x[i] (k floats): the batch's rows are read where they are (in the feature matrix), never
/// gathered. Each sum runs over k in order, one (fused, where the CPU has it) multiply-add per
/// input.
void hs_dense_forward_rows(int m, int n, int k, const float *const *x, const float *w, const float *bias, float *z,
                           int ldz);

/// The kernel gradient of the same layer, dw (k, n) = x^T dz, with dz (m, n) of row stride ldz.
/// With dw non-NULL it is stored there (overwriting). With dw NULL it is never stored whole:
/// each block of k rows is applied at once to w, mom and vel (k, n) as hs_adam_update would
/// with coefficients c, saving the gradient's round trip through memory.
void hs_dense_backward_rows(int m, int n, int k, const float *const *x, const float *dz, int ldz, float *dw,
                            float *w, float *mom, float *vel, const hs_adam_coefficients *c);

#endif
