/**
 * The spot map (C-2-6), as progressive enhancement: the page already lists every spot as text;
 * this script shows the same spots on a 地理院タイル map, one keyboard-reachable marker per spot
 * (Tab to it, Enter opens its popup with a link to the page). The data comes from a JSON block
 * in the page, never from HTML strings, so titles cannot inject markup.
 */
import L from 'leaflet';
import iconUrl from 'leaflet/dist/images/marker-icon.png';
import iconRetinaUrl from 'leaflet/dist/images/marker-icon-2x.png';
import shadowUrl from 'leaflet/dist/images/marker-shadow.png';

interface Spot {
  id: number;
  title: string;
  url: string;
  lat: number;
  lng: number;
  address: string;
}

const TILES = 'https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png';
const ATTRIBUTION = '<a href="https://maps.gsi.go.jp/development/ichiran.html">国土地理院</a>';

function popupContent(s: Spot): HTMLElement {
  const box = document.createElement('div');
  const link = document.createElement('a');
  link.href = s.url;
  link.textContent = s.title;
  box.append(link);
  if (s.address) {
    const p = document.createElement('p');
    p.textContent = s.address;
    box.append(p);
  }
  return box;
}

function start(): void {
  const section = document.getElementById('spot-map-section');
  const el = document.getElementById('spot-map');
  const data = document.getElementById('spot-map-data');
  if (!section || !el || !data) return;
  let spots: Spot[];
  try {
    spots = JSON.parse(data.textContent ?? '[]') as Spot[];
  } catch {
    return;
  }
  section.hidden = false;
  const map = L.map(el, { zoomControl: false, scrollWheelZoom: false });
  L.control.zoom({ zoomInTitle: '拡大', zoomOutTitle: '縮小' }).addTo(map);
  map.attributionControl.setPrefix('<a href="https://leafletjs.com/">Leaflet</a>');
  L.tileLayer(TILES, { attribution: ATTRIBUTION, minZoom: 5, maxZoom: 18 }).addTo(map);
  const icon = L.icon({ iconUrl, iconRetinaUrl, shadowUrl, iconSize: [25, 41], iconAnchor: [12, 41], popupAnchor: [1, -34], shadowSize: [41, 41] });
  for (const s of spots) {
    L.marker([s.lat, s.lng], { icon, alt: s.title, title: s.title, keyboard: true, riseOnHover: true }).bindPopup(popupContent(s)).addTo(map);
  }
  if (spots.length) map.fitBounds(L.latLngBounds(spots.map((s) => [s.lat, s.lng] as [number, number])), { padding: [40, 40], maxZoom: 16 });
  else map.setView([35.681, 139.767], 12);
}

start();
