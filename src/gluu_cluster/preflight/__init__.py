"""``check``: what every node must have before ``apply`` (the seed's requirements and
what it assumes silently), each requirement a pass or a fail with its fix."""
