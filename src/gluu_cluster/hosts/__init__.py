"""Every node resolves every other node's name: /etc/hosts on the host and in the container."""
