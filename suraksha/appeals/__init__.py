"""Appeals: a user asks for a decision on their content or account to be looked at again, by a person
who did not make it; reversal rates by policy, tool and bank (``docs/appeals.md``)."""
