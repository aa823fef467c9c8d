#!/bin/bash
# Builds .gpu/ (ignored) for a lent GPU machine (`device` tool): the venv's versions of the training libraries as
# one unpacked tarball (the machine's image has torch but not trl, bitsandbytes, datasets, liger-kernel, and an
# older transformers), and the embedded model's tokenizer without its weights. Then, through the device tool:
#   run: `bash bench/gpu/run.sh`, carry [".gpu"]   (gpu-marked tests, then bench/train.py --gpu-only)
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
WANT="trl bitsandbytes datasets dill multiprocess transformers peft accelerate huggingface_hub liger-kernel pydantic
 pydantic_core annotated_types typing_inspection kernels httpx2 httpcore2 hf_xet truststore tomlkit typing_extensions
 anyio idna regex"
rm -rf .gpu/whl .gpu/site && mkdir -p .gpu/whl .gpu/site
for name in $WANT; do
  v=$($PY -m pip show "$name" 2>/dev/null | awk '/^Version/{print $2}' || true)
  spec=$name${v:+==$v}
  $PY -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .gpu/whl "$spec" 2>&1 | grep -v "^WARNING: Location" || true
done
for w in .gpu/whl/*.whl; do unzip -q -o "$w" -d .gpu/site; done
# the image's CUDA is 13.0: the other CUDA and ROCm builds of bitsandbytes would take the 64 MiB a call may carry
find .gpu/site/bitsandbytes -name 'libbitsandbytes_*.so' ! -name '*cuda130*' ! -name '*cpu*' -delete
(cd .gpu && tar czf site.tgz site && rm -rf site whl)
E=$($PY -c "from tools.llm.embedded import embedded_model_dir; print(embedded_model_dir())")
mkdir -p .gpu/cache/SmolLM2-135M-Instruct
cp "$E"/{chat_template.jinja,config.json,generation_config.json,tokenizer.json,tokenizer_config.json} \
  .gpu/cache/SmolLM2-135M-Instruct/
du -sh .gpu
