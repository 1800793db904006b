"""Streamlit glue shared by the pages: cached loading, pickers, charts, navigation. No data logic here."""
