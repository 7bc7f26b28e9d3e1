"""Offline tools: evaluate a program under mocks; render, diff and the command line."""
