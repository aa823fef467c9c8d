import os as _os

# the libraries whose log lines are noise to a person reading tunewise's output (the CLI and the trainer's
# process quiet them to errors); bitsandbytes warns on every load where `kernels` is installed and the Hub is
# out of reach ("Failed to load CPU gemm_4bit_forward from kernels-community", in an evaluation's output)
NOISY_LOGGERS = ("transformers", "peft", "trl", "accelerate", "datasets", "bitsandbytes", "kernels")

# transformers (5.x, with `kernels`, one of its own requirements) fetches compute kernels from the Hugging Face
# Hub on CUDA ("kernels-community/rotary" for a Llama): offline, every training there failed at its first step with
# "Version 2 of 'kernels-community/rotary' is not available in the local cache" (an H200, session 19), and
# online it runs code fetched at run time. Off unless the person turns them on (USE_HUB_KERNELS=YES).
_os.environ.setdefault("USE_HUB_KERNELS", "NO")
