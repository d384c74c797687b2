/* backend.c: what a backend table says about itself (see backend.h). */
#include "backend.h"

bool ll_backend_supports(const LlBackend *be, LlOptionalOp op)
{
  switch (op) {
  case LL_OP_LINEAR_RELU: return be->linear_forward != NULL;
  case LL_OP_BATCHNORM_RELU:
    return be->batchnorm_relu_forward != NULL && be->batchnorm_relu_backward != NULL;
  case LL_OP_RELU_DROPOUT: return be->relu_dropout_forward != NULL && be->relu_mul_backward != NULL;
  case LL_N_OPTIONAL_OPS: break;
  }
  return false;
}
