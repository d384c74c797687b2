/* pytorch-export.h: a trained model as PyTorch code.
 *
 * ll_pytorch_export writes two files into a folder:
 *   model.py     a torch.nn.Module named Model: one attribute per block,
 *                standard modules (nn.Conv2d, nn.Linear, nn.BatchNorm2d,
 *                nn.LSTM, ...) named as the blocks, so the state_dict keys
 *                are the checkpoint's tensor names (PyTorch's recurrent
 *                modules add "_l0": the file lists each such name); forward
 *                takes the Input blocks by name in graph order and returns
 *                the output (a tuple, in the spec's order, for several);
 *                load() returns it in evaluation mode with the weights read.
 *   weights.bin  every tensor as little-endian float32, one after another in
 *                the order of model.py's WEIGHTS table (read with numpy: no
 *                safetensors package needed).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Exports the graph and weights of the LayerLab checkpoint at `checkpoint`
 * (its spec comes from the checkpoint's metadata) into dir, created if
 * needed. Files that exist are replaced only with force (otherwise a
 * G_FILE_ERROR_EXIST error naming the file, and nothing is written). A block
 * PyTorch cannot express fails with an error naming it, before anything is
 * written. The paths written are appended to written (char*; may be NULL). */
gboolean ll_pytorch_export(const char *checkpoint, const char *dir, gboolean force,
                           GPtrArray *written, GError **error);

G_END_DECLS
