"""The data layer: datasets and their readers, label schemes, FERPlus votes, quality findings, class balance."""
