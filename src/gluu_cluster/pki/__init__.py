"""Cluster CA, node certificates, Gluu certificate sets, Java truststores."""
