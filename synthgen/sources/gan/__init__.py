"""The `gan` family: StyleGAN2 generators (untrained variants of "Learning to See by Looking at
Noise", trained checkpoints, user factories) and GenRep latent views."""
