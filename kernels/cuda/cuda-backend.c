/* cuda-backend.c: the CUDA backend's table and the module's entry points
 * (backend-module.h). Plain C, compiled by the host compiler: it sees only the
 * launchers' C headers. */
#include <stdio.h>

#include "cuda-basic.h"
#include "cuda-conv.h"
#include "cuda-dropout.h"
#include "cuda-gemm.h"
#include "cuda-loss.h"
#include "backend-module.h"
#include "cuda-norm.h"
#include "cuda-optim.h"
#include "cuda-pool.h"
#include "cuda-rnn.h"
#include "cuda-runtime.h"

#define LL_EXPORT __attribute__((visibility("default")))

/* "cuda-on-cpu" when the same kernels are built for the CPU (cuda-on-cpu/) */
#ifndef LL_CUDA_BACKEND_NAME
#define LL_CUDA_BACKEND_NAME "cuda"
#endif

static char device_name[256];

static const LlBackend cuda_backend = {
    .name = LL_CUDA_BACKEND_NAME,
    .device_name = device_name,

    .alloc = ll_cuda_alloc,
    .free = ll_cuda_free,
    .upload = ll_cuda_upload,
    .download = ll_cuda_download,
    .mem_free = ll_cuda_mem_free,
    .synchronize = ll_cuda_synchronize,
    .take_error = ll_cuda_take_error,

    .fill = ll_cuda_fill,
    .copy = ll_cuda_copy,
    .axpy = ll_cuda_axpy,
    .scale = ll_cuda_scale,
    .copy2d = ll_cuda_copy2d,
    .act_forward = ll_cuda_act_forward,
    .act_backward = ll_cuda_act_backward,
    .sum_squares = ll_cuda_sum_squares,

    .gemm = ll_cuda_gemm,
    .bias_add = ll_cuda_bias_add,
    .bias_backward = ll_cuda_bias_backward,

    .conv2d_workspace = ll_cuda_conv2d_workspace,
    .conv2d_forward = ll_cuda_conv2d_forward,
    .conv2d_backward_data = ll_cuda_conv2d_backward_data,
    .conv2d_backward_filter = ll_cuda_conv2d_backward_filter,

    .maxpool2d_forward = ll_cuda_maxpool2d_forward,
    .maxpool2d_backward = ll_cuda_maxpool2d_backward,
    .avgpool2d_forward = ll_cuda_avgpool2d_forward,
    .avgpool2d_backward = ll_cuda_avgpool2d_backward,
    .mean_inner_forward = ll_cuda_mean_inner_forward,
    .mean_inner_backward = ll_cuda_mean_inner_backward,
    .upsample2d_forward = ll_cuda_upsample2d_forward,
    .upsample2d_backward = ll_cuda_upsample2d_backward,

    .batchnorm_forward_train = ll_cuda_batchnorm_forward_train,
    .batchnorm_forward_eval = ll_cuda_batchnorm_forward_eval,
    .batchnorm_backward = ll_cuda_batchnorm_backward,
    .batchnorm_backward_eval = ll_cuda_batchnorm_backward_eval,
    .layernorm_forward = ll_cuda_layernorm_forward,
    .layernorm_backward = ll_cuda_layernorm_backward,

    .dropout_forward = ll_cuda_dropout_forward,
    .mul_backward = ll_cuda_mul_backward,

    .softmax_forward = ll_cuda_softmax_forward,
    .softmax_backward = ll_cuda_softmax_backward,
    .cross_entropy = ll_cuda_cross_entropy,
    .bce_logits = ll_cuda_bce_logits,
    .mse = ll_cuda_mse,
    .l1 = ll_cuda_l1,
    .argmax_rows = ll_cuda_argmax_rows,

    .embedding_forward = ll_cuda_embedding_forward,
    .embedding_backward = ll_cuda_embedding_backward,
    .lstm_cell_forward = ll_cuda_lstm_cell_forward,
    .lstm_cell_backward = ll_cuda_lstm_cell_backward,
    .gru_cell_forward = ll_cuda_gru_cell_forward,
    .gru_cell_backward = ll_cuda_gru_cell_backward,

    .sgd_update = ll_cuda_sgd_update,
    .adam_update = ll_cuda_adam_update,
    .rmsprop_update = ll_cuda_rmsprop_update,
    .adagrad_update = ll_cuda_adagrad_update,
};

LL_EXPORT size_t ll_backend_module_abi(void) { return sizeof(LlBackend); }

LL_EXPORT const LlBackend *ll_backend_module_open(int device, char *err, size_t errlen)
{
  char name[sizeof device_name];
  if (!ll_cuda_runtime_open(device, name, sizeof name, err, errlen))
    return NULL;
  /* the name is written once, by the first successful open */
  if (!device_name[0])
    snprintf(device_name, sizeof device_name, "%s", name);
  return &cuda_backend;
}

LL_EXPORT int ll_backend_module_device_count(char *names, size_t len)
{
  return ll_cuda_runtime_devices(names, len);
}
