"""数据交换与比对 (exchange)."""
