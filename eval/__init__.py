"""Eval: the reference Q&A and claims sets, the harness that scores variants, the LangChain baseline."""
