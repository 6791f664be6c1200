"""Throwaway local servers that tests start on loopback: PostgreSQL, kube-apiserver + etcd."""
