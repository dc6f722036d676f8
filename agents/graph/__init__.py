"""Graph neural network agents (GCN, GAT, GraphSAGE) and a node-features-only MLP."""
