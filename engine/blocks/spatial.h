/* spatial.h: what the convolution and pooling blocks share: input rank
 * checks, output sizes of a sliding window, the "kernel larger than its
 * input" check and the receptive-field update. */
#pragma once

#include "block.h"

/* Output length of a window of k taps `dilation` apart sliding by `stride`
 * over n inputs padded by `pad` on both sides; < 1 when it does not fit. */
int ll_window_out(int n, int k, int stride, int pad, int dilation);

/* Checks that input 0 has `rank` dimensions; the error shows its shape and
 * the expected layout, e.g. "(C, H, W)". */
gboolean ll_block_check_rank(LlBlock *b, int rank, const char *layout, GError **error);

/* Checks that a k x k window (dilated) fits the padded h x w input (h = 0:
 * a 1-D input of length w). */
gboolean ll_block_check_window(LlBlock *b, int k, int dilation, int pad, int h, int w,
                               GError **error);

/* rf_out = rf_in + (k - 1) * dilation * jump_in, jump_out = jump_in * stride
 * (rf 0, the whole input, stays 0). */
void ll_block_rf_window(LlBlock *b, int k, int dilation, int stride);
