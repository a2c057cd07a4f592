"""The `visualatom` family: contours from sums of sinusoids (VisualAtom, Takashima et al., CVPR 2023)."""
