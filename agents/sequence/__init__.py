"""Sequence agents: RNN, LSTM, GRU and a causal Transformer predicting the next element."""
