"""Training: explained defaults, a TRL/PEFT runner subprocess with progress events, resume, export,
managed backends. Import the submodules (heavy libraries load inside their functions):

    tools.train.config    TrainConfig, auto_config, apply_overrides, DatasetStats, Hardware
    tools.train.runner    start_training, wait_training, resume_training, stop_training, train_blocking
    tools.train.sft       the subprocess (`python -m tools.train.sft --out-dir DIR`); the events.jsonl format
    tools.train.progress  ProgressState, sparkline (for CLI/TUI views of events)
    tools.train.export    export_run
    tools.train.managed   start_managed, wait_managed, cancel_managed (OpenAI, Together AI)
"""
