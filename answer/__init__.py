"""Answer: extractive answer selection, abstention, and claim verification against passages."""
