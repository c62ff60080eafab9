"""The load balancer: nginx on a host of its own in front of the nodes."""
