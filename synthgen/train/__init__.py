"""Self-supervised pretraining on exported shards: data, augmentation, models, methods, loop."""
