#!/bin/bash
# on a lent GPU machine, after bench/gpu/prepare.sh here (issue #17 item 6):
# the gpu-marked tests, then bench/train.py's GPU section
T0=$(date +%s)
mkdir -p /tmp/sitex && tar xzf .gpu/site.tgz -C /tmp/sitex || exit 3
export PYTHONPATH=/tmp/sitex/site:$PWD TUNEWISE_MODEL_CACHE=$PWD/.gpu/cache HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
  PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
python3 -c "
import torch, transformers, trl, peft, datasets, bitsandbytes, importlib.util as u
print('torch', torch.__version__, 'cuda', torch.version.cuda, 'transformers', transformers.__version__, 'trl', trl.__version__,
      'peft', peft.__version__, 'datasets', datasets.__version__, 'bnb', bitsandbytes.__version__,
      'liger', bool(u.find_spec('liger_kernel')), 'flash_attn', bool(u.find_spec('flash_attn')))
" 2>&1 | tail -3
echo "setup $(( $(date +%s) - T0 ))s"
timeout 110 python3 -m pytest tests/test_train_gpu.py -m gpu -o addopts="" -p no:cacheprovider -q -x 2>&1 | tail -25 | tee $OUT/gpu_tests.log
echo "tests done at $(( $(date +%s) - T0 ))s"
timeout ${BENCH_S:-330} python3 bench/train.py --gpu-only --steps ${STEPS:-10} --json $OUT/gpu_bench.json 2>&1 \
  | grep -v "Writing model shards\|Loading weights" | tee $OUT/gpu_bench.log
echo "bench done at $(( $(date +%s) - T0 ))s"
nvidia-smi --query-gpu=name,memory.used --format=csv
