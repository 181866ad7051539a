// CPU twin of src/nn/block.ts: the pre-norm transformer block and CroCo's decoder block, forward
// and backward, float64. The implementation is the CPU transformer (src/nn/cpu_transformer.ts),
// which the float32 CPU model (src/models/mim_cpu.ts) runs too; re-exported here under the twin
// names. Parameters are fetched by timm name through `get` (views into a flat array in the table's
// layout); gradients accumulate through `grad`.
export {
  type BlockCache,
  type BlockConfig as RefBlockConfig,
  blockBackward,
  blockForward,
  crossBlockBackward,
  crossBlockForward,
} from "../../nn/cpu_transformer.js";
