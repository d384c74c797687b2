/* cpu-backend.c: the CPU backend's table, the fast path on the host. It is
 * tested, as every backend is, against the double-precision reference
 * (kernels/ref) by the op test (tests/ops). */
#include "cpu-ops.h"
#include "cpu-threads.h"

/* ll_cpu_set_threads and ll_cpu_get_threads live in cpu-threads.c, with the
 * worker pool they size. */

static const LlBackend cpu_backend = {
    .name = "cpu",
    .device_name = "CPU",
    .host_memory = true,

    .alloc = ll_cpu_alloc,
    .free = ll_cpu_free,
    .upload = ll_cpu_upload,
    .download = ll_cpu_download,
    .take_error = ll_cpu_take_error,

    .fill = ll_cpu_fill,
    .copy = ll_cpu_copy,
    .axpy = ll_cpu_axpy,
    .scale = ll_cpu_scale,
    .copy2d = ll_cpu_copy2d,
    .act_forward = ll_cpu_act_forward,
    .act_backward = ll_cpu_act_backward,
    .sum_squares = ll_cpu_sum_squares,
    .host_parallel_for = ll_cpu_parallel_for,

    .gemm = ll_cpu_gemm,
    .bias_add = ll_cpu_bias_add,
    .bias_backward = ll_cpu_bias_backward,
    .linear_forward = ll_cpu_linear_forward,

    .batchnorm_forward_train = ll_cpu_batchnorm_forward_train,
    .batchnorm_forward_eval = ll_cpu_batchnorm_forward_eval,
    .batchnorm_backward = ll_cpu_batchnorm_backward,
    .batchnorm_backward_eval = ll_cpu_batchnorm_backward_eval,
    .layernorm_forward = ll_cpu_layernorm_forward,
    .layernorm_backward = ll_cpu_layernorm_backward,
    .batchnorm_relu_forward = ll_cpu_batchnorm_relu_forward,
    .batchnorm_relu_backward = ll_cpu_batchnorm_relu_backward,

    .dropout_forward = ll_cpu_dropout_forward,
    .mul_backward = ll_cpu_mul_backward,
    .relu_dropout_forward = ll_cpu_relu_dropout_forward,
    .relu_mul_backward = ll_cpu_relu_mul_backward,

    .softmax_forward = ll_cpu_softmax_forward,
    .softmax_backward = ll_cpu_softmax_backward,
    .cross_entropy = ll_cpu_cross_entropy,
    .bce_logits = ll_cpu_bce_logits,
    .mse = ll_cpu_mse,
    .l1 = ll_cpu_l1,
    .argmax_rows = ll_cpu_argmax_rows,

    .embedding_forward = ll_cpu_embedding_forward,
    .embedding_backward = ll_cpu_embedding_backward,
    .lstm_cell_forward = ll_cpu_lstm_cell_forward,
    .lstm_cell_backward = ll_cpu_lstm_cell_backward,
    .gru_cell_forward = ll_cpu_gru_cell_forward,
    .gru_cell_backward = ll_cpu_gru_cell_backward,
    .sgd_update = ll_cpu_sgd_update,
    .adam_update = ll_cpu_adam_update,
    .rmsprop_update = ll_cpu_rmsprop_update,
    .adagrad_update = ll_cpu_adagrad_update,
    .conv2d_workspace = ll_cpu_conv2d_workspace,
    .conv2d_forward = ll_cpu_conv2d_forward,
    .conv2d_backward_data = ll_cpu_conv2d_backward_data,
    .conv2d_backward_filter = ll_cpu_conv2d_backward_filter,
    .maxpool2d_forward = ll_cpu_maxpool2d_forward,
    .maxpool2d_backward = ll_cpu_maxpool2d_backward,
    .avgpool2d_forward = ll_cpu_avgpool2d_forward,
    .avgpool2d_backward = ll_cpu_avgpool2d_backward,
    .mean_inner_forward = ll_cpu_mean_inner_forward,
    .mean_inner_backward = ll_cpu_mean_inner_backward,
    .upsample2d_forward = ll_cpu_upsample2d_forward,
    .upsample2d_backward = ll_cpu_upsample2d_backward,
};

const LlBackend *ll_cpu_backend(void) { return &cpu_backend; }
