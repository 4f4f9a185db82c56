"""Metrics (ir-measures / pytrec_eval) and profiling (latency, RSS, throughput, cost)."""
