"""Deep Q-network: config, agent, network, replay buffer and learner."""
