"""The paper's evaluation protocol on the project's own tasks."""
