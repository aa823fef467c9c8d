# the libraries whose log lines are noise to a person reading tunewise's output (the CLI and the trainer's
# process quiet them to errors); bitsandbytes warns on every load where `kernels` is installed and the Hub is
# out of reach ("Failed to load CPU gemm_4bit_forward from kernels-community", in an evaluation's output)
NOISY_LOGGERS = ("transformers", "peft", "trl", "accelerate", "datasets", "bitsandbytes", "kernels")
