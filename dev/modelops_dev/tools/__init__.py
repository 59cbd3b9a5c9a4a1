"""Quality tools, each a ``python -m modelops_dev.tools.<name>`` (most behind a make target):
``bench`` (make bench), ``scale`` (make scale), ``memory`` with its ``memory_worker`` (make
memory), ``mutation`` (make mutation), ``fuzz`` (make fuzz), ``drift_quality`` (the drift
monitor's false alarms and power), ``real_data`` (the monitor on Chicago weather and
ridership), ``lambda_sizes`` and ``layer_check`` (make sizes), ``sample_events`` (make events)."""
