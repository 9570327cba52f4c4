"""The pure rules engine: definitions, conditions and what an event earns.

Nothing here touches a store, Redis or the web: every function takes plain values and returns
plain values, so the engine is tested and benchmarked on its own (docs/architecture.md).
"""
