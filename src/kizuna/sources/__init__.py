"""Adapters that turn external feeds (CoT, AIS, CAP/JMA) into domain records.

Each source validates its input at the edge: bad input is counted, logged and
dropped, never raised into the node.
"""
