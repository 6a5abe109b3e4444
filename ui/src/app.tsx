// The app shell: routes a URL to its page. Pages live in src/pages/.
export function App() {
  return <div class="page">vigil</div>;
}
