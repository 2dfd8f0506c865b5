"""Map building for the pages (folium), with every asset served by floodpost itself."""
