/* recurrent.h: what the RNN, LSTM and GRU blocks share.
 *
 * The three take a batch-first sequence x(N, T, F) (PyTorch's batch_first)
 * and keep their per-step state time-major in b->saved, (T, N, ...), so one
 * time step is a contiguous (N, ...) matrix for the recurrent GEMM, and the
 * input projection and the weight gradients are single GEMMs over all T * N
 * rows. The input is copied once into that order (xT); the output is copied
 * back to batch-first. The parameters carry PyTorch's names: weight_ih
 * (G*H, F), weight_hh (G*H, H), bias_ih, bias_hh (G*H), G = 1, 3, 4. */
#pragma once

#include "block.h"

/* The properties, in this order; RNN adds its nonlinearity after them. */
enum { LL_RNN_P_HIDDEN, LL_RNN_P_RETSEQ, LL_RNN_P_BIAS, LL_RNN_P_INIT, LL_RNN_N_COMMON };
/* The parameters, in this order (the biases only with bias = true). */
enum { LL_RNN_W_IH, LL_RNN_W_HH, LL_RNN_B_IH, LL_RNN_B_HH };

#define LL_RNN_COMMON_PROPS                                                                        \
  [LL_RNN_P_HIDDEN] = {"hidden_size", LL_PROP_INT, "width of the hidden state", 32, 1, 1 << 16},   \
  [LL_RNN_P_RETSEQ] = {"return_sequences", LL_PROP_BOOL,                                           \
                       "output every step's hidden state (T, H), not only the last (H)", 0},       \
  [LL_RNN_P_BIAS] = {"bias", LL_PROP_BOOL, "learn the biases bias_ih and bias_hh", 1},             \
  [LL_RNN_P_INIT] = {"init", LL_PROP_CHOICE,                                                       \
                     "weight initialisation (default: PyTorch's U(-1/sqrt(H), 1/sqrt(H)))", 3,     \
                     .choices = ll_init_choices}

/* Sizes of one step of a recurrent block. */
typedef struct {
  int n, t, f, h;
  gboolean seq; /* return_sequences */
} LlSeqDims;

LlSeqDims ll_seq_dims(const LlBlock *b, const LlRunCtx *ctx);

/* Checks the input is (T, F), sets the output shape and declares the four
 * parameters for `gates` gates. The caller sets saved sizes and flops. */
gboolean ll_recurrent_infer(LlBlock *b, int gates, GError **error);

/* xt(T, N, F) = x(N, T, F) */
void ll_seq_to_time_major(const LlBackend *be, const float *x, float *xt, int n, int t, int f);
/* x(N, T, F) += xt(T, N, F) */
void ll_seq_to_batch_major_acc(const LlBackend *be, const float *xt, float *x, int n, int t, int f);
/* Writes b->out from the hidden states hs(T + 1, N, H), hs[0] = h0. */
void ll_recurrent_output(LlBlock *b, const LlRunCtx *ctx, const float *hs);
/* dh(N, H) += the part of b->dout that reads step s's hidden state. */
void ll_recurrent_dout_step(LlBlock *b, const LlRunCtx *ctx, int s, float *dh);
/* The products shared by every cell, once dpre(T, N, G*H) holds the
 * gradients of the input-side preactivations (x W_ih^T + b_ih) and dhpre
 * those of the recurrent side (h W_hh^T + b_hh); they may be the same buffer.
 * Accumulates the four parameter gradients and dx; overwrites xt. */
void ll_recurrent_backward_params(LlBlock *b, const LlRunCtx *ctx, int gates, const float *dpre,
                                  const float *dhpre, const float *hs, float *xt);
